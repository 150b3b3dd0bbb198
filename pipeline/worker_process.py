"""Set-up of the worker processes Beam starts for a multi-process local run.

`--direct_running_mode multi_processing` runs stages in processes Beam starts
itself, in the terminal's process group, so a Ctrl-C reaches them as well as
the `newsbeam run` that decides what an interrupt means. Each worker used to
die of its own KeyboardInterrupt and print its traceback over newsbeam's
one-line message. A worker now leaves at once, quietly, on SIGINT or SIGTERM:
the run stops on the same signal and publishes nothing. Not by ignoring SIGINT and
waiting for the run to close the worker: that lets the worker's interpreter
shut down under a bundle thread still inside spaCy's BLIS, which sometimes
aborts ("libblis: Aborting.").

A signal sent to the run alone (`kill PID`, `docker stop`, a supervisor that
signals its child only) does not reach the workers: the run closed their
streams and each shut down under its bundle thread, with the same risk of the
BLIS abort. So each worker also writes its process id into the folder the run names
in `NEWSBEAM_WORKER_PIDS`, and the run forwards a stop signal to every worker
listed there (`pipeline.runners`).

Beam imports this module in each worker at start-up, because
`pipeline.runners.subprocess_worker_options` lists it in the workers'
`beam_plugins`; nothing else imports it.
"""

import os
import signal

from pipeline.runners import WORKER_PIDS_VARIABLE


def _leave_quietly(signum, frame):
    # Exit status 0: a non-zero one makes the run's watcher thread raise "Worker subprocess
    # exited with return code ...", noise beside the run's own report of the interrupt.
    os._exit(0)


# SIGTERM too: a service manager stops the run's whole process group with it, and the
# default action would end the worker before the run has seen the same signal.
signal.signal(signal.SIGINT, _leave_quietly)
signal.signal(signal.SIGTERM, _leave_quietly)

_PIDS_FOLDER = os.environ.get(WORKER_PIDS_VARIABLE)
if _PIDS_FOLDER:
    # After the handlers: a worker the run can signal leaves quietly.
    with open(os.path.join(_PIDS_FOLDER, f"{os.getpid()}.pid"), "x", encoding="ascii"):
        pass
