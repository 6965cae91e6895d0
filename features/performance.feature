@perf @gpu @loads_model
Feature: Performance
  The custom model is fast enough, and its figures make sense together. Speeds are the
  server's own statistics: generation is eval_count / eval_duration, prompt processing
  is prompt_eval_count / prompt_eval_duration. The chat of api.chat is the warm-up; each
  sample varies its first words, the model's system prompt included (sent as the
  sample's own), so the prompt cache cannot flatter later samples. The
  samples are streamed: the same answers give the server's figures and the client's
  timing of every token, and the scenarios below share them. Sampling stops as soon as
  the median generation speed is known within 2% at 95% confidence: a steady GPU costs 3
  answers, a noisy one more (at most 10). A target inside the median's interval warns:
  the samples cannot tell at that precision.
  Run with `--baseline` (an earlier run's summary JSON), each speed and wait is also
  compared with that run's: one more than the stated tolerance worse fails (or warns,
  where the sentence says so), and the verdict names the facts that changed between
  the two runs: Ollama version, driver, GPU, the model's digest, quantisation, context,
  parallel slots, flash attention and KV cache.
  The samples, the streams at once and the cold load have the server alone: no other
  request of the suite is in flight while they measure. Checks that only read the host
  go on meanwhile.
  A team sharing one server sends several requests at once: Ollama generates for
  OLLAMA_NUM_PARALLEL requests per loaded model at a time (1 by default) and queues the
  rest, so a client waits for another's answer before its first token. The streams are
  sent together right after one stream alone, against which they are judged; edit the
  number of streams to the clients you expect, or write `in as many streams at once as
  the server has parallel slots (at least 2)` to check the setting the server runs with.
  A cloud model (`gpt-oss:20b-cloud`) answers from its remote host, so its figures are
  not this install's: these checks skip it, and it gets no sample and no cold load.

  Background:
    Given the Ollama install under verification
    And the model "my-coder" has answered a chat
    And a figure more than 10% worse than the baseline's fails
    And the benchmark prompt:
      """
      Write a thread-safe counter struct in Go with Increment, Decrement, and Value methods.
      """

  @check.perf.generation
  Scenario: Generation is fast enough
    When the model "my-coder" answers the benchmark prompt 3 to 10 times, at most 128 tokens each, until the median is known within 2% at 95% confidence
    Then the median generation speed is at least 40 tokens per second

  @check.perf.prompt
  Scenario: Prompt processing is fast enough
    When the model "my-coder" answers the benchmark prompt 3 to 10 times, at most 128 tokens each, until the median is known within 2% at 95% confidence
    Then the median prompt processing speed is at least 100 tokens per second

  @check.perf.streaming
  Scenario: Streamed tokens arrive at the speed the server reports
    When the model "my-coder" answers the benchmark prompt 3 to 10 times, at most 128 tokens each, until the median is known within 2% at 95% confidence
    Then the speed measured on the client is within 15% of the server's

  @check.perf.parallel @warn
  Scenario: A shared server answers several clients at once
    When the model "my-coder" answers the benchmark prompt in 4 streams at once, at most 32 tokens each
    Then the streams together generate at least 1.5 times as many tokens per second as one stream alone, and none waits more than 3 times as long for its first token

  @check.perf.load_warm @warn
  Scenario: A loaded model starts answering at once
    When the model "my-coder" answers the benchmark prompt 3 to 10 times, at most 128 tokens each, until the median is known within 2% at 95% confidence
    Then the median load time is under 1000 milliseconds

  @check.perf.load_cold @warn
  Scenario: A cold load takes a bounded time (only with --allow-unload: it unloads the model)
    When the model "my-coder" is unloaded and loaded again
    Then the load takes under 60 seconds

  @check.perf.roofline @warn
  Scenario: Generation speed against the GPU's memory bandwidth
    When the model "my-coder" answers the benchmark prompt 3 to 10 times, at most 128 tokens each, until the median is known within 2% at 95% confidence
    And the loaded models are listed
    Then the median generation speed is at least 25% of the memory-bandwidth limit

  @check.perf.vram_headroom @warn
  Scenario: VRAM is left once the model is loaded
    When the loaded models are listed
    Then at least 1 GiB of VRAM is free
