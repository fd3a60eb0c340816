"""cairn-sdk: the runtime of generated Cairn clients. Never imports the server package.

The client, typed resources, auto-paging and retries arrive with the SDK issue; this package
exists now so that the distribution layout is installable from the start.
"""

__version__ = "0.1.0"
