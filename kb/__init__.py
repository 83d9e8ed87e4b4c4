"""A knowledge base of Chongqing's COVID-19 measures (Jan 2020; Nov–Dec 2022), with evidence."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cq-covid-kb")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0+unknown"
