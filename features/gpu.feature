Feature: GPU
  Ollama is only fast when the model runs on an NVIDIA GPU. The GPU must be visible to
  the driver, and the loaded model must sit in its memory.

  Background:
    Given the Ollama install under verification

  @check.gpu.visible @gpu
  Scenario: An NVIDIA GPU is visible
    When the GPUs are listed through the driver
    Then at least 1 NVIDIA GPU is visible with its name, memory and driver version

  @check.gpu.offload @gpu @loads_model
  Scenario: The custom model sits entirely in VRAM
    Given the model "my-coder" has answered a chat
    When the loaded models are listed
    Then the model "my-coder" is loaded 100% on the GPU
