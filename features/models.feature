@models
Feature: Models
  The base model and the custom model built on it from the Modelfile are installed.

  Background:
    Given the Ollama install under verification
    When the installed models are listed

  @check.models.base
  Scenario: The base model is installed
    Then the base model "qwen2.5-coder:7b" is installed

  @check.models.custom
  Scenario: The custom model is installed
    Then the custom model "my-coder" is installed
