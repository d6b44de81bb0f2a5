"""vaxtrust: clean vaccination records against the population register and sign vaccine passports."""

__version__ = "0.1.0"
