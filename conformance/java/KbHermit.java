// HermiT (the OWL 2 DL reasoner, with the OWL API 3 it is built on, from the HermiT.jar that the PyPI package
// owlready2 ships) over ontologies in RDF/XML (as the OWL API 5 writes them). Its own JVM: the OWL API 3 inside HermiT.jar and
// Debian's OWL API 5 cannot share a class path.
//
// Arguments: OUT_FILE then one or more ONTOLOGY_FILE. For each ontology it writes, TAB separated:
//   FILE  strict       consistent|inconsistent|error MESSAGE   (HermiT as configured by default)
//   FILE  lenient      consistent|inconsistent|error MESSAGE   (unsupported datatypes such as xsd:date ignored)
//   FILE  unsatisfiable CLASS_IRI                              (lenient, consistent: each unsatisfiable class)

import java.io.File;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

import org.semanticweb.HermiT.Configuration;
import org.semanticweb.HermiT.Reasoner;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.OWLClass;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;

public final class KbHermit {
    public static void main(String[] args) throws Exception {
        try (PrintWriter out = new PrintWriter(args[0], StandardCharsets.UTF_8)) {
            for (int i = 1; i < args.length; i++) {
                OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
                OWLOntology ontology = manager.loadOntologyFromOntologyDocument(new File(args[i]));
                reason(out, args[i], "strict", ontology, false);
                reason(out, args[i], "lenient", ontology, true);
            }
        }
    }

    private static void reason(PrintWriter out, String file, String mode, OWLOntology ontology, boolean lenient) {
        Configuration configuration = new Configuration();
        configuration.ignoreUnsupportedDatatypes = lenient;
        try {
            Reasoner reasoner = new Reasoner(configuration, ontology);
            boolean consistent = reasoner.isConsistent();
            out.println(file + "\t" + mode + "\t" + (consistent ? "consistent" : "inconsistent"));
            if (consistent && lenient) {
                for (OWLClass unsatisfiable : reasoner.getUnsatisfiableClasses().getEntitiesMinusBottom()) {
                    out.println(file + "\tunsatisfiable\t" + unsatisfiable.getIRI());
                }
            }
            reasoner.dispose();
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage()).replace('\n', ' ').replace('\t', ' ');
            out.println(file + "\t" + mode + "\terror " + e.getClass().getSimpleName() + ": " + message);
        }
    }
}
