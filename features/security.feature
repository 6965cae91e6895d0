@security
Feature: Security
  Ollama's API has no authentication: whoever can reach it can run prompts, pull, copy
  and delete models. Who can reach it is set by where it listens (OLLAMA_HOST) and by
  which web pages a browser lets call it (OLLAMA_ORIGINS, CORS). These checks warn;
  they never fail a run.

  The seed's setup binds 0.0.0.0 with OLLAMA_ORIGINS=* on purpose (see service.host), so
  on such an install security.exposure and security.remote_reachable warn: the warning
  keeps that a decision. To accept the network, write
  `Given the API may answer on the network` instead of the loopback line below.

  Reports mask the value of every variable named like a secret (*_KEY, *_TOKEN,
  *_SECRET, *PASSWORD*) wherever it appears; security.masking warns when the unit's
  environment holds such a variable, naming it with its value masked, because
  `systemctl show` prints the unit's environment to every local user.

  Background:
    Given the Ollama install under verification

  @check.security.exposure @host @systemd @warn
  Scenario: The API is not open to every web page from the network
    When the systemd unit "ollama" is inspected
    Then the API does not both listen beyond loopback and let OLLAMA_ORIGINS "*" call it

  @check.security.remote_reachable @host @warn
  Scenario: The API answers on loopback only
    Given the API should answer on loopback only
    When the API is requested on every non-loopback address of this host
    Then it answers on none of them

  @check.security.masking @host @systemd @warn
  Scenario: No secret sits in clear in the unit's environment
    When the systemd unit "ollama" is inspected
    Then the unit's environment holds no variable named like a secret:
      | pattern    |
      | *_KEY      |
      | *_TOKEN    |
      | *_SECRET   |
      | *PASSWORD* |
