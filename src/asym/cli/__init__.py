"""asym's command line (typer): the composition root that wires config to parts."""
