"""fwsetup: make a machine ready for machine learning."""

__version__ = "0.1.0"
