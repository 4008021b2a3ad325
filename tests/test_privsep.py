"""The privsep plan: Kore's defaults, inheritance and overrides (pure)."""

from dataclasses import replace

from korepyd import privsep
from korepyd.config import model
from korepyd.privsep import Account, Overrides, plan

USERS = {"kore": Account("kore", 1001, 1001), "keymgr": Account("keymgr", 1002, 1002)}


NO_OVERRIDES = Overrides()


def make(config, role="worker", overrides=NO_OVERRIDES, euid=0, worker_id=1, ncpu=2):
    return plan(config, role, overrides, cwd="/srv/app", euid=euid, lookup=USERS.__getitem__,
                worker_id=worker_id, ncpu=ncpu)


def test_defaults_are_the_working_directory_and_current_user():
    p = make(model.Config())
    assert (p.root, p.chroot, p.account) == ("/srv/app", True, None)


def test_keymgr_inherits_the_worker_settings_it_does_not_set():
    config = model.Config(privsep_worker=model.Privsep("/chroot/w", "kore"),
                          privsep_keymgr=model.Privsep(runas="keymgr"))
    p = make(config, "keymgr")
    assert (p.root, p.account.name, p.nofiles, p.cpu) == ("/chroot/w", "keymgr", None, None)


def test_skip_chroot_in_the_block_and_on_the_command_line():
    config = model.Config(privsep_worker=model.Privsep("/chroot/w", "kore", skip_chroot=True))
    assert make(config).chroot is False
    assert make(replace(config, privsep_worker=model.Privsep("/w", "kore")), overrides=Overrides(True)).chroot is False


def test_dev_deployment_skips_both():
    config = model.Config(deployment="dev", privsep_worker=model.Privsep("/w", "kore"))
    o = privsep.overrides_for(config, False, False)
    p = make(config, overrides=o)
    assert (p.chroot, p.account) == (False, None)


def test_not_root_can_neither_chroot_nor_switch_user():
    p = make(model.Config(privsep_worker=model.Privsep("/w", "kore")), euid=1000)
    assert (p.chroot, p.account) == (False, None)


def test_worker_limits_and_affinity():
    config = model.Config(worker_rlimit_nofiles=4096)
    assert (make(config, worker_id=3, ncpu=2).cpu, make(config).nofiles) == (0, 4096)
    assert make(replace(config, worker_set_affinity=0)).cpu is None


def test_describe_matches_kore_start_line():
    p = make(model.Config(privsep_worker=model.Privsep("/w", "kore")))
    assert privsep.describe(p) == "chroot=/w user=kore"
