@api
Feature: API
  The HTTP API answers like Ollama: a greeting at its root, a model list, a chat, and
  the OpenAI-compatible API that Open WebUI, Continue and Aider use.

  Background:
    Given the Ollama install under verification

  @check.api.root
  Scenario: The server answers at its root
    When the root URL is requested
    Then the answer is "Ollama is running"

  @check.api.tags
  Scenario: The model list answers
    When the installed models are listed
    Then the answer is a list of models

  @check.api.chat @loads_model
  Scenario: A chat with the custom model completes
    Given the model "my-coder" has answered a chat
    Then the chat completed with "done": true

  @check.api.openai @loads_model
  Scenario: The OpenAI-compatible API answers the custom model
    Then the OpenAI-compatible API lists "my-coder" and answers it, whole and streamed
