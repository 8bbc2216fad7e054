"""Run ``werker-proxy`` with a cProfile switched on by SIGUSR1 and dumped by SIGUSR2.

Used by ``profile_proxy.py`` so that start-up (imports, rule compilation, CA generation) stays
out of the profile: ``_profiled_werker.py PROFILE_PATH run --config ... --mode reverse``.
"""

import cProfile
import signal
import sys

prof = cProfile.Profile()
out = sys.argv[1]


def _on(signum, frame):  # noqa: ARG001
    prof.enable()


def _off(signum, frame):  # noqa: ARG001
    prof.disable()
    prof.dump_stats(out)


signal.signal(signal.SIGUSR1, _on)
signal.signal(signal.SIGUSR2, _off)

from werker_proxy.cli import main  # noqa: E402

sys.exit(main(sys.argv[2:]))
