"""Shared test helpers; test modules import from here, never from each other.

- `builders`: scripted sides, `run_session`, synthetic session files, canned
  conversations, the fake clock;
- `waiting`: the one `wait_until` (with a Pilot or without) and `settle`;
- `ui`: the app as the tests build it, and the screen as plain text;
- `shared`: the real transcripts in ../shared/fixtures, skipped when absent;
- `hostile_server`: an OpenAI-compatible server on 127.0.0.1 whose faults are
  picked by the model name (fixtures `hostile_server`, `hostile`).
"""
