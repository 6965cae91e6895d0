@service
Feature: Service
  Ollama runs as the systemd unit the official installer creates, started at boot and
  configured by a drop-in override. The `ollama` CLI talks to it.

  Background:
    Given the Ollama install under verification

  @check.service.active @host @systemd
  Scenario: The service is running
    When the systemd unit "ollama" is inspected
    Then the unit is active

  @check.service.enabled @host @systemd @warn
  Scenario: The service starts at boot
    When the systemd unit "ollama" is inspected
    Then the unit is enabled

  @check.service.override @host @systemd @warn
  Scenario: A drop-in override configures the service
    When the systemd unit "ollama" is inspected
    Then the unit has a drop-in override

  @check.service.host @host @systemd @warn
  Scenario: The API listens on the expected address
    When the systemd unit "ollama" is inspected
    Then the unit sets OLLAMA_HOST to bind "0.0.0.0"

  @check.service.flash_attention @host @systemd @warn
  Scenario: Flash attention is on
    When the systemd unit "ollama" is inspected
    Then the unit sets OLLAMA_FLASH_ATTENTION to "1"

  @check.cli.available @host
  Scenario: The ollama CLI runs and reports its version
    When "ollama --version" runs
    Then it reports a version, the same as the server's
