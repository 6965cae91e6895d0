Feature: Performance
  The custom model generates at least as fast as the target. Generation speed is
  eval_count / eval_duration of the server's own statistics.

  Background:
    Given the Ollama install under verification

  @check.perf.generation @gpu @serial
  Scenario: Generation is fast enough
    Given the model "my-coder" has answered a chat
    When the model "my-coder" answers at most 128 tokens to:
      """
      Write a thread-safe counter struct in Go with Increment, Decrement, and Value methods.
      """
    Then generation runs at 40 tokens per second or more
