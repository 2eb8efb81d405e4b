"""homelab-agent side by side with what people run instead (issue 16): the same questions, the same GGUF.

Run on demand, never in CI: `benchmarks/peers/setup.sh` once, then `python -m benchmarks.peers
--threads 2` (see `__main__`). The pieces: `processes` serves the board and starts llama-server,
`stacks` is the seam every configuration answers through (ours in `stacks`, the peers' host in
`host`), `run` interleaves and scores, `findings` probes kanboard-mcp and keeps each peer's exact
errors, `table` compares, `report` writes NAME.md and NAME.json. This package adds nothing to the
agent.
"""
