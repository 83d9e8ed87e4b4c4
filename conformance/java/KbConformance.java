// The reference engines of the conformance harness in one JVM: Jena ARQ (SPARQL 1.1), Jena SHACL and the
// OWL API's OWL 2 DL profile checker. It reads one batch file written by conformance/java.py, does every job
// in it and writes each answer to the file the job names; the Python side compares them.
//
// Batch file, one job per line, fields separated by TAB:
//   dataset  NQUADS_FILE                       load the dataset the following sparql jobs run on
//   sparql   QUERY_FILE  OUT_FILE              SELECT/ASK: SPARQL 1.1 Query Results JSON; CONSTRUCT/DESCRIBE: N-Triples
//   shacl    DATA_FILE   SHAPES_FILE  OUT_FILE the validation report graph, as N-Triples
//   profile  ONTOLOGY_FILE  OUT_FILE  RDFXML_FILE  OWL 2 DL profile violations, one a line; the ontology as RDF/XML (for HermiT)
// A job that fails writes OUT_FILE.err (its message) instead, and the batch goes on.

import java.io.File;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.jena.graph.Graph;
import org.apache.jena.graph.Node;
import org.apache.jena.query.Dataset;
import org.apache.jena.query.DatasetFactory;
import org.apache.jena.query.Query;
import org.apache.jena.query.QueryExecution;
import org.apache.jena.query.QueryExecutionFactory;
import org.apache.jena.query.QueryFactory;
import org.apache.jena.query.ResultSetFormatter;
import org.apache.jena.query.Syntax;
import org.apache.jena.rdf.model.Model;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.riot.RDFParser;
import org.apache.jena.riot.lang.LabelToNode;
import org.apache.jena.sparql.graph.GraphFactory;
import org.apache.jena.shacl.ShaclValidator;
import org.apache.jena.shacl.Shapes;
import org.apache.jena.shacl.ValidationReport;
import org.apache.jena.sparql.core.DatasetGraph;
import org.apache.jena.sparql.core.Quad;
import org.apache.jena.sys.JenaSystem;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.RDFXMLDocumentFormat;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public final class KbConformance {
    private static Dataset dataset;

    public static void main(String[] args) throws Exception {
        JenaSystem.init();
        List<String> jobs = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
        for (String line : jobs) {
            if (line.isBlank()) {
                continue;
            }
            String[] job = line.split("\t");
            String out = job[job.length - 1];
            long start = System.nanoTime();
            try {
                switch (job[0]) {
                    case "dataset" -> dataset = loadDataset(job[1]);
                    case "sparql" -> sparql(job[1], job[2]);
                    case "shacl" -> shacl(job[1], job[2], job[3]);
                    case "profile" -> profile(job[1], job[2], job[3]);
                    default -> throw new IllegalArgumentException("unknown job " + job[0]);
                }
            } catch (Exception | StackOverflowError e) {
                String target = job[0].equals("profile") ? job[2] : job[0].equals("dataset") ? job[1] : out;
                StringWriter trace = new StringWriter();
                e.printStackTrace(new PrintWriter(trace));
                Files.writeString(Path.of(target + ".err"), trace.toString(), StandardCharsets.UTF_8);
            }
            // the time of each job, for `python -m conformance --work DIR` (DIR/jvm.log)
            System.out.println((System.nanoTime() - start) / 1000000 + " ms\t" + line);
        }
    }

    // The named graphs as they are, and the default graph as their RDF merge (a set of triples; blank nodes
    // keep their labels across graphs, as in the store the N-Quads come from).
    private static Dataset loadDataset(String file) {
        Dataset loaded = DatasetFactory.createGeneral();
        RDFParser.create().source(file).lang(Lang.NQUADS)
                .labelToNode(LabelToNode.createUseLabelAsGiven()).parse(loaded.asDatasetGraph());
        DatasetGraph graphs = loaded.asDatasetGraph();
        Graph union = graphs.getDefaultGraph();
        List<Quad> quads = new ArrayList<>();
        graphs.find().forEachRemaining(quads::add);
        for (Quad quad : quads) {
            if (!quad.isDefaultGraph()) {
                union.add(quad.asTriple());
            }
        }
        return loaded;
    }

    private static void sparql(String queryFile, String out) throws Exception {
        String text = Files.readString(Path.of(queryFile), StandardCharsets.UTF_8);
        // strict SPARQL 1.1 syntax: an ARQ extension in a named query is an error, not an answer
        Query query = QueryFactory.create(text, Syntax.syntaxSPARQL_11);
        try (QueryExecution execution = QueryExecutionFactory.create(query, dataset);
                OutputStream stream = new FileOutputStream(out)) {
            if (query.isSelectType()) {
                ResultSetFormatter.outputAsJSON(stream, execution.execSelect());
            } else if (query.isAskType()) {
                ResultSetFormatter.outputAsJSON(stream, execution.execAsk());
            } else {
                Model model = query.isConstructType() ? execution.execConstruct() : execution.execDescribe();
                RDFDataMgr.write(stream, model, Lang.NTRIPLES);
            }
        }
    }

    // The data keeps its blank node labels (as given in the N-Triples), and the report names them the same way,
    // so that a result about a parameter (a blank node) is compared with the other engines' result about it.
    private static void shacl(String dataFile, String shapesFile, String out) throws Exception {
        Graph data = GraphFactory.createDefaultGraph();
        RDFParser.create().source(dataFile).lang(Lang.NTRIPLES)
                .labelToNode(LabelToNode.createUseLabelAsGiven()).parse(data);
        Shapes shapes = Shapes.parse(RDFDataMgr.loadGraph(shapesFile));
        ValidationReport report = ShaclValidator.get().validate(shapes, data);
        try (PrintWriter writer = new PrintWriter(out, StandardCharsets.UTF_8)) {
            report.getGraph().find().forEachRemaining(triple -> writer.println(
                    term(triple.getSubject()) + " " + term(triple.getPredicate()) + " " + term(triple.getObject()) + " ."));
        }
    }

    // N-Triples form of a term (a literal always with its datatype or language); a blank node label that is not plain letters and digits (one Jena made) is hex-encoded.
    private static String term(Node node) {
        if (node.isBlank()) {
            String label = node.getBlankNodeLabel();
            if (label.matches("[A-Za-z0-9]+")) {
                return "_:" + label;
            }
            StringBuilder hex = new StringBuilder("_:jena");
            for (byte b : label.getBytes(StandardCharsets.UTF_8)) {
                hex.append(String.format("%02x", b));
            }
            return hex.toString();
        }
        if (node.isLiteral()) {
            StringBuilder text = new StringBuilder("\"");
            for (char c : node.getLiteralLexicalForm().toCharArray()) {
                switch (c) {
                    case '\\' -> text.append("\\\\");
                    case '"' -> text.append("\\\"");
                    case '\n' -> text.append("\\n");
                    case '\r' -> text.append("\\r");
                    default -> text.append(c);
                }
            }
            text.append('"');
            String language = node.getLiteralLanguage();
            if (language != null && !language.isEmpty()) {
                return text.append('@').append(language).toString();
            }
            return text.append("^^<").append(node.getLiteralDatatypeURI()).append('>').toString();
        }
        return "<" + node.getURI() + ">";
    }

    private static void profile(String ontologyFile, String out, String rdfXml) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntology ontology = manager.loadOntologyFromOntologyDocument(new File(ontologyFile));
        OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
        try (PrintWriter writer = new PrintWriter(out, StandardCharsets.UTF_8)) {
            for (OWLProfileViolation violation : report.getViolations()) {
                String text = violation.toString().replace('\n', ' ').replace('\t', ' ');
                writer.println(violation.getClass().getSimpleName() + "\t" + text);
            }
        }
        manager.saveOntology(ontology, new RDFXMLDocumentFormat(), IRI.create(new File(rdfXml)));
    }
}
