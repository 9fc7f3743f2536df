"""Time comes from an injected clock so that every schedule can be tested.

The clock itself lives in `providers.clock`, below both providers/ and store/ (which may not
import bot/); this module keeps the name the services and the composition root use.
"""

from __future__ import annotations

from providers.clock import Clock, FixedClock, SystemClock

__all__ = ["Clock", "FixedClock", "SystemClock"]
