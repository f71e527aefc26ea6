"""omamori's service: discovery, owned-domain watch, the data model, the scheduler and the CLI."""

__version__ = "0.1.0"
