"""`python -m agent` is `homelab-agent`."""

from agent.cli import main

main()
