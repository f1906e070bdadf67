"""The routes of ``unswap serve``, one APIRouter per concern: ``pages`` (the page and its
static files), ``server`` (health, what the server offers, the page's words), ``scans``
(the scan jobs), ``hashes`` (PDQ hashes of an upload) and ``matching`` (matching against
the library). ``unswap.serve.app.create_app`` includes them in that order; what they share
is the app's ``unswap.serve.state.ServeState``."""
