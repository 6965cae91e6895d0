#!/usr/bin/env bash
# CI of deploy/ansible/: the playbook, for real, with Ansible (ansible-core from PyPI in a
# throwaway venv) against three hosts started here: containers of a Debian rootfs with
# sshd and python3 (debootstrapped by steps/tests/systemd/build-rootfs.sh, imported once
# and kept), each with the emulator installed as its `ollama` and serving; host-c's lacks
# the custom model. The playbook installs the binary on each, runs it, fetches the reports
# and builds the fleet report on this machine; it must name host-c and models.custom.
#
# Needs the debug binaries (cargo build). Leaves no container, network, key or file; the
# host images (ollama-verify-ansible-host-base:bookworm and
# ollama-verify-ansible-host:<hash of its inputs>) are kept for the next run.
# shellcheck source=.ci/lib.sh
source "$(dirname "$0")/lib.sh"
ci_begin ansible "the Ansible playbook was NOT run." ollama-verify ollama-emulator

docker info >/dev/null 2>&1 || skip "no usable Docker engine to start the hosts in"

BASE=ollama-verify-ansible-host-base:bookworm
IMAGE=ollama-verify-ansible-host
HOSTS=(host-a host-b host-c)
work="$(mktemp -d)"
run="ollama-verify-ansible-$$"
cleanup() {
  local ids
  mapfile -t ids < <(docker ps -aq --filter "label=org.ollama-verify.test=$run" 2>/dev/null || true)
  [[ ${#ids[@]} -eq 0 ]] || docker rm -f -v "${ids[@]}" >/dev/null 2>&1 || true
  docker network rm "$run" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== ansible: the hosts' image"
t=$SECONDS
code=0
OLLAMA_VERIFY_ROOTFS_PACKAGES=openssh-server,python3 OLLAMA_VERIFY_ROOTFS_LABEL=ansible-host-base \
  timeout 900 bash steps/tests/systemd/build-rootfs.sh "$BASE" >"$work/rootfs.log" 2>&1 || code=$?
if [[ $code -eq 77 ]]; then
  skip "the hosts' base image cannot be built here: $(tail -n 1 "$work/rootfs.log")"
elif [[ $code -ne 0 ]]; then
  cat "$work/rootfs.log"
  fail "steps/tests/systemd/build-rootfs.sh $BASE"
fi
echo "  $(tail -n 1 "$work/rootfs.log") ($((SECONDS - t)) s)"

# The test image: the emulator as /usr/local/bin/ollama, a healthy and a sick config.
mkdir -p "$work/context"
objcopy --strip-debug "$bin/ollama-emulator" "$work/context/ollama" 2>/dev/null ||
  cp "$bin/ollama-emulator" "$work/context/ollama"
cp .ci/ansible/host-entry.sh "$work/context/entry.sh"
printf 'token_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\n' >"$work/context/healthy.toml"
printf 'custom = []\ntoken_rate = 70.0\nanswer_tokens = 24\nload_time_ms = 20\n' >"$work/context/sick.toml"
cat >"$work/context/Dockerfile" <<DOCKERFILE
FROM $BASE
COPY ollama /usr/local/bin/ollama
COPY entry.sh /usr/local/sbin/entry.sh
COPY healthy.toml sick.toml /etc/ollama-emulator/
ENV OLLAMA_EMULATOR_CONFIG=/etc/ollama-emulator/healthy.toml
EXPOSE 22
CMD ["/bin/sh", "/usr/local/sbin/entry.sh"]
DOCKERFILE
tag="$( (docker image inspect --format '{{.Id}}' "$BASE"; cd "$work/context" &&
  sha256sum Dockerfile ollama entry.sh healthy.toml sick.toml) | sha256sum | cut -c1-16)"
if docker image inspect "$IMAGE:$tag" >/dev/null 2>&1; then
  echo "  $IMAGE:$tag: cached, inputs unchanged"
else
  t=$SECONDS
  docker build -q -t "$IMAGE:$tag" "$work/context" >/dev/null 2>"$work/build.log" ||
    { cat "$work/build.log"; fail "docker build $IMAGE:$tag"; }
  echo "  $IMAGE:$tag built ($((SECONDS - t)) s)"
fi
for old in $(docker images --format '{{.Repository}}:{{.Tag}}' "$IMAGE" | grep -vxF "$IMAGE:$tag"); do
  if docker image rm "$old" >/dev/null 2>&1; then echo "  removed the older image $old"; fi
done

echo "== ansible: three hosts, one of them sick"
ssh-keygen -q -t ed25519 -N '' -C "$run" -f "$work/id"
docker network create --label "org.ollama-verify.test=$run" "$run" >/dev/null
declare -A address
for h in "${HOSTS[@]}"; do
  config=healthy
  [[ "$h" == host-c ]] && config=sick
  docker run -d --name "$run-$h" --hostname "$h" --network "$run" \
    --label "org.ollama-verify.test=$run" \
    -e OLLAMA_EMULATOR_CONFIG="/etc/ollama-emulator/$config.toml" \
    -v "$work/id.pub:/root/.ssh/authorized_keys:ro" "$IMAGE:$tag" >/dev/null
  address[$h]="$(docker inspect -f "{{(index .NetworkSettings.Networks \"$run\").IPAddress}}" "$run-$h")"
done
ssh_opts=(-i "$work/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
  -o BatchMode=yes -o ConnectTimeout=3)
for h in "${HOSTS[@]}"; do
  for i in $(seq 60); do
    ssh "${ssh_opts[@]}" "root@${address[$h]}" true 2>/dev/null && break
    [[ $i -lt 60 ]] || { docker logs "$run-$h" 2>&1 | tail -n 20; fail "sshd of $h did not answer within 30 s"; }
    sleep 0.5
  done
  echo "  $h at ${address[$h]}: sshd answers"
done

echo "== ansible: ansible-core"
if ! python3 -m venv "$work/venv" >/dev/null 2>&1 ||
  ! timeout 600 "$work/venv/bin/pip" install -q ansible-core >"$work/pip.log" 2>&1; then
  tail -n 5 "$work/pip.log" 2>/dev/null || true
  skip "could not install ansible-core from PyPI"
fi
"$work/venv/bin/ansible-playbook" --version >"$work/version"
echo "  $(head -n 1 "$work/version")"

{
  echo "[ollama]"
  for h in "${HOSTS[@]}"; do echo "$h ansible_host=${address[$h]}"; done
  echo "[ollama:vars]"
  echo "ansible_user=root"
  echo "ansible_ssh_private_key_file=$work/id"
  echo "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'"
  echo "ansible_python_interpreter=/usr/bin/python3"
} >"$work/inventory.ini"

# The binary the role installs: without debug info, as a release build would be.
objcopy --strip-debug "$bin/ollama-verify" "$work/ollama-verify" 2>/dev/null ||
  cp "$bin/ollama-verify" "$work/ollama-verify"
fleet=true
if ! "$bin/ollama-verify" fleet --help >/dev/null 2>&1; then
  fleet=false
  echo "!!! SKIPPED: this build has no 'ollama-verify fleet': the playbook runs up to fetching"
  echo "!!! each host's reports; the fleet report is NOT built."
fi

echo "== ansible: the playbook"
t=$SECONDS
code=0
ANSIBLE_HOME="$work/ansible-home" ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" ANSIBLE_NOCOLOR=1 \
  ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_FORKS=3 \
  timeout 600 "$work/venv/bin/ansible-playbook" -i "$work/inventory.ini" deploy/ansible/playbook.yml \
  -e "ollama_verify_binary=$work/ollama-verify" -e ollama_verify_gpu=none \
  -e '{"ollama_verify_tags": "not @perf"}' -e "ollama_verify_reports_dir=$work/reports" \
  -e "ollama_verify_fleet=$fleet" >"$work/playbook.log" 2>&1 || code=$?
took=$((SECONDS - t))
# With the fleet step, a sick host fails the play (ansible-playbook exits 2); without it,
# each host's verdict is only fetched.
want=0
[[ $fleet == true ]] && want=2
[[ $code -eq $want ]] || { cat "$work/playbook.log"; fail "ansible-playbook exited $code, not $want"; }
grep -E '^(host-[abc]|localhost) +:' "$work/playbook.log" | sed 's/^/  /'
echo "  ansible-playbook: exit $code in $took s"

python3 - "$work/reports" "$fleet" <<'PY' || { cat "$work/playbook.log"; fail "the reports"; }
import json, os, sys
reports, fleet = sys.argv[1], sys.argv[2] == "true"
for host in ("host-a", "host-b", "host-c"):
    for ext in ("json", "xml", "md"):
        assert os.path.getsize(f"{reports}/{host}.{ext}") > 0, f"{host}.{ext} fetched empty"
    summary = json.load(open(f"{reports}/{host}.json"))
    failed = sorted(c["id"] for c in summary["checks"] if c["status"] == "fail")
    if host == "host-c":
        assert "models.custom" in failed, f"{host}: models.custom not failed: {failed}"
    else:
        assert not failed, f"{host}: failed {failed}"
    print(f"  {host}: reports fetched; {len(summary['checks'])} checks, failed: {', '.join(failed) or 'none'}")
if fleet:
    text = open(f"{reports}/fleet.json").read()
    md = open(f"{reports}/fleet.md").read()
    for said in ("host-c", "models.custom"):
        assert said in text and said in md, f"the fleet report does not name {said}"
    print("  fleet report: names host-c and models.custom")
PY

mapfile -t left < <(docker ps -aq --filter "label=org.ollama-verify.test=$run")
[[ ${#left[@]} -eq 0 ]] || docker rm -f -v "${left[@]}" >/dev/null
echo "ansible: done in $((SECONDS - started)) s"
