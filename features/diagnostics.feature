@diagnose
Feature: Diagnostics
  A failed check says what is wrong; these say why. Each reads what the install itself
  reports — the server's log (`journalctl -u ollama`, the container log), NVML, systemd
  and /proc — quotes its evidence, and ends with the next step. They only read: nothing
  is restarted, reloaded or changed. Where a fact cannot exist (no journal on the
  emulator target, no NVML, not Linux, a cloud model never loaded here) the check is
  skipped with the reason.

  The summary shows, under each failed verification check, the findings of the
  diagnostics that explain it (perf.generation ← diagnose.offload, service.host ←
  diagnose.settings, api.root ← diagnose.port_owner, ...).

  Background:
    Given the Ollama install under verification

  @check.diagnose.gpu_discovered @gpu
  Scenario: Ollama found every GPU the driver sees
    When the GPUs are listed through the driver
    And the server log is read
    Then the log's inference compute lines name a CUDA device for every GPU

  @check.diagnose.driver_floor @gpu
  Scenario: The driver is new enough for Ollama
    When the GPUs are listed through the driver
    Then the NVIDIA driver is at least 550, or 570 for compute capability 5.0 to 6.2

  @check.diagnose.offload @gpu @loads_model
  Scenario: The server holds the model in VRAM while it generates
    Given the model "my-coder" has answered a chat
    When the model "my-coder" generates while the GPU is watched
    And the server log is read
    Then an Ollama process holds the VRAM that /api/ps claims for "my-coder"

  @check.diagnose.settings @host @warn
  Scenario: The running server uses the unit's settings
    When the systemd unit "ollama" is inspected
    And the server log is read
    Then the server config in the log matches the unit's environment

  @check.diagnose.service_health @host @systemd
  Scenario: The service is not crashing and restarting
    When the systemd unit "ollama" is inspected
    And the server log is read
    Then the unit has not restarted, and 3 restarts are a restart loop

  @check.diagnose.port_owner @host
  Scenario: Ollama owns the API port
    When the owner of the API port is looked up
    Then it is a single Ollama server

  @check.diagnose.context @gpu @loads_model
  Scenario: The context fits in VRAM and no prompt was cut
    Given the model "my-coder" has answered a chat
    When the loaded models are listed
    And the GPUs are listed through the driver
    And the server log is read
    Then the context of "my-coder" fits in VRAM and the log shows no truncated prompt or out-of-memory

  @check.diagnose.platform @host @gpu
  Scenario: The kernel side of the driver is in place
    When the GPUs are listed through the driver
    And the host's kernel and driver libraries are inspected
    Then nvidia_uvm is loaded natively, and on WSL2 no Linux driver library shadows the Windows one

  @check.diagnose.vulnerable
  Scenario: The server is not a known-vulnerable version
    When the systemd unit "ollama" is inspected
    Then the server is at least version "0.17.1-rc1", which fixes "CVE-2026-7482"
