"""The test suite, laid out like the source tree: tests/assistant (with server/ and llms/),
tests/ingest, tests/evals and tests/benchmarks test the modules of those packages; tests/e2e
runs the whole product; test_architecture.py checks the code's shape. Shared helpers live in
tests/support and the modules beside this one (fakes, fake_openai, documents, chroma), never
in a test module, so no test module imports another."""
