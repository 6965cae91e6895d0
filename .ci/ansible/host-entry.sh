#!/bin/sh
# The entrypoint of .ci/ansible.sh's hosts: the emulator as the host's Ollama (its
# configuration from OLLAMA_EMULATOR_CONFIG), then sshd in the foreground for Ansible.
mkdir -p /run/sshd
OLLAMA_HOST=127.0.0.1:11434 /usr/local/bin/ollama serve >/var/log/ollama.log 2>&1 &
exec /usr/sbin/sshd -D -e
