from journeys.quality._all import *  # noqa: F401,F403  (temporary during the split)
from journeys.quality._all import _gx  # noqa: F401
