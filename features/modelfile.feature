@modelfile
Feature: Modelfile conformance
  The custom model on the server is the one its Modelfile describes: the same
  parameters, the same system prompt, built on the base model's weights rather than a
  copy of them. The Modelfile is the one shipped in setup/ (a relative path is looked
  up from the working folder, then from the folder above the feature files).

  Background:
    Given the Ollama install under verification
    And the Modelfile "setup/coding-assistant.Modelfile"

  @check.modelfile.parameters
  Scenario: The custom model's parameters are the Modelfile's
    When the server shows the model "my-coder"
    Then every PARAMETER of the Modelfile has the same value on the server

  @check.modelfile.system
  Scenario: The custom model's system prompt is the Modelfile's
    When the server shows the model "my-coder"
    And the server shows the Modelfile's base model
    Then the server's system prompt is the Modelfile's SYSTEM, or the base model's where it sets none

  @check.modelfile.weights @warn
  Scenario: The custom model shares its base model's weights
    When the server shows the model "my-coder"
    And the server shows the Modelfile's base model
    Then both name the same weights blob
