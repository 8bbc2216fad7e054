"""mitmproxy script: `mitmdump -s addons/werker.py --set werker_config=/path/config.yaml`.

Prefer `werker-proxy run`: it registers the addon before options apply, so a bad config
stops the process; loaded as a script, mitmproxy only logs the error and the addon answers
every intercepted call with 503 until a valid config is set.

With other scripts, load this one last (`-s other.py -s addons/werker.py`): a script after it
could switch on body streaming once the addon has turned it off, and mitmdump refuses to start.
"""

from werker_proxy.addon import WerkerProxy

addons = [WerkerProxy()]
