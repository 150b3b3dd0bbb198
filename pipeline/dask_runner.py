"""Beam's DaskRunner, with each output of a multi-output ParDo kept apart.

Beam 2.77's `apache_beam.runners.dask.dask_runner.DaskRunner` has four faults
in its ParDo translation that newsbeam's graph runs into:

1. it returns `v.value` for every output, stripping the tag of tagged outputs,
   and hands the producing ParDo's whole bag to every consumer: a stage's
   dead-letter branch receives its articles too, and vice versa;
2. all bundles of a ParDo append to one shared receiver list, so when a bag is
   computed more than once (it has several consumers) values repeat;
3. values emitted in `finish_bundle` are dropped (outputs are collected first);
4. a side input is read inside each task by computing its bag again
   (`list(bag)` in `DaskBagWindowedIterator`): the whole upstream graph runs
   once more per side input and partition (a graph ending in a step with side
   inputs over every stage ran NER five times over).

This subclass fixes only those: a consumer of the main output gets the
untagged values, a consumer of output `X` gets the values tagged `X` (as main
inputs and as side inputs), each bundle has its own receivers, and
finish_bundle output is kept, a DoFn is set up once per worker process and
reused for its partitions (Beam sets up and tears down one per partition: a
model loads for every partition), and each side input's bag becomes one Dask
item of the same graph, computed once and broadcast to the partitions that
read it. That item goes into the reading tasks as a `Delayed` over the
unoptimised graph: any other Dask collection passed as a task argument is
finalised, optimised and renamed by Dask (`ProhibitReuse`), so its whole
upstream (read, clean, NER) ran again under new keys for every side input.
And a GroupByKey spreads its output over `--dask_npartitions` partitions, or
four per worker thread: Beam's translation keeps the partition count, and a
bounded read starts as one partition, so most of the graph ran as one task.

Running the graph (`run_pipeline`, `ClusterRunResult`): a cluster that cannot
run it raises `pipeline.runners.ClusterError`, which `newsbeam run` prints as
one line: no scheduler at the address (Beam: a 70-line traceback), a missing
scheduler file (Dask: waits for it forever), a scheduler without workers or
workers gone during the run (Beam: waits forever), a scheduler gone during the
run (Beam: cancelled tasks taken for a finished run), workers dying on a task.
How long it waits for the cluster: `--dask_connection_timeout`, else Dask's
connect timeout (30 s). Every end of the graph is computed (Beam computes the
last step it visited only), and a LocalCluster started for a run without
`--dask_client_address` keeps its INFO lines out of the run's output.
Everything else — Dask bags, the `dask.distributed` client,
`--dask_client_address` and the other DaskOptions — is Beam's own runner.
`newsbeam run --runner DaskRunner` uses it.

    newsbeam run --input 'dumps/*.jsonl' --output out \\
        --runner DaskRunner --dask_client_address 127.0.0.1:8786
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import threading
import time
import uuid

import apache_beam
from apache_beam import pvalue
from apache_beam.pvalue import TaggedOutput
from apache_beam import DoFn
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, _OutputHandler
from apache_beam.runners.dask import transform_evaluator
from apache_beam.runners.dask.dask_runner import DaskOptions, DaskRunnerResult
from apache_beam.runners.dask.dask_runner import DaskRunner as BeamDaskRunner
from apache_beam.runners.dask.overrides import dask_overrides
from apache_beam.runners.runner import PipelineState
from apache_beam.runners.dask.transform_evaluator import (
    TRANSLATIONS,
    DaskBagWindowedIterator,
    Flatten,
    NoOp,
    OneReceiver,
    get_windowed_value,
)
from apache_beam.transforms.sideinputs import SideInputMap

from pipeline.runners import ClusterError

_LOGGER = logging.getLogger(__name__)


# DoFns already set up in this worker process, by step and thread: Beam sets a
# DoFn up once and reuses it for many bundles (a model loads once per worker);
# Beam's Dask translation unpickles, sets up and tears down a fresh one for every
# partition.
_SET_UP_DOFNS: dict = {}


def _forget_other_runs(run_token: str) -> None:
    """Tear down the DoFns earlier pipelines left in this worker (a worker outlives runs)."""
    for key in [k for k in _SET_UP_DOFNS if k[0][0] != run_token]:
        signature = _SET_UP_DOFNS.pop(key)
        try:
            signature.do_fn.teardown()
        except Exception:  # teardown is best effort, as in Beam
            pass


def _apply_dofn_to_bundle(items, signature, window_fn, invoker_kwargs, dofn_key, side_specs, *side_values):
    """Run a DoFn over one Dask partition; tagged values keep their tag.

    Differences from Beam's `apply_dofn_to_bundle`: every bundle gets its own
    receivers (Beam shares one list across all bundles and every recomputation
    of the bag, so values repeat when a bag has several consumers); values
    emitted in `finish_bundle` are kept; the DoFn (`dofn_key`: run token, step
    token) is set up once per worker thread and kept for later bundles; side
    inputs arrive as computed values (`side_values`, one list per
    `side_specs` entry), not as bags to compute in the task; each item is
    windowed here rather than by a separate `map` step, whose one-pass
    iterator a second reader of the same bag would find empty.
    """
    if side_specs:
        invoker_kwargs = dict(
            invoker_kwargs,
            side_inputs=[
                SideInputMap(view_class, view_options, [get_windowed_value(v, side_window_fn) for v in values])
                for (view_class, view_options, side_window_fn), values in zip(side_specs, side_values)
            ],
        )
    receivers = OneReceiver()
    handler = _OutputHandler(
        window_fn=window_fn,
        main_receivers=receivers[None],
        tagged_receivers=receivers,
        per_element_output_counter=None,
        output_batch_converter=None,
        process_yields_batches=False,
        process_batch_yields_elements=False,
    )
    _forget_other_runs(dofn_key[0])
    cache_key = (dofn_key, threading.get_ident())
    cached = _SET_UP_DOFNS.get(cache_key)
    invoker = DoFnInvoker.create_invoker(cached or signature, handler, **invoker_kwargs)
    if cached is None:
        invoker.invoke_setup()
        _SET_UP_DOFNS[cache_key] = signature
    invoker.invoke_start_bundle()
    for item in items:
        invoker.invoke_process(get_windowed_value(item, window_fn))
    invoker.invoke_finish_bundle()
    return [
        TaggedOutput(v.tag, v.value.value) if isinstance(v, TaggedOutput) else v.value
        for v in receivers.values
    ]


class _TagKeepingParDo(transform_evaluator.ParDo):
    """Beam's Dask ParDo translation, run through `_apply_dofn_to_bundle`."""

    run_token = ""  # set per pipeline by DaskRunner.to_dask_bag_visitor

    def apply(self, input_bag, side_inputs=None, side_bags=()):
        transform = self.transform
        args, kwargs = transform.raw_side_inputs
        main_input = next(iter(self.applied.main_inputs.values()))
        window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
        invoker_kwargs = dict(
            context=DoFnContext(transform.label, state=None),
            side_inputs=side_inputs,
            input_args=list(args),
            input_kwargs=kwargs,
            user_state_context=None,
            bundle_finalizer_param=DoFn.BundleFinalizerParam(),
        )
        side_specs = tuple(spec for spec, _ in side_bags)
        # As Delayed over the unoptimised graph: Dask finalises, optimises and
        # renames (ProhibitReuse) any other collection passed as an argument, so
        # the side input's whole upstream would run a second time under new keys.
        side_items = [bag.reduction(list, _concatenate).to_delayed(optimize_graph=False) for _, bag in side_bags]
        # Named after the step: Dask's own token for this call can coincide for
        # two steps (closures of the same name, e.g. every CombineGlobally's
        # InjectDefault), and tasks under one key run once for both.
        token = f"{self.applied.full_label}-{uuid.uuid4().hex}"
        return input_bag.map_partitions(
            _apply_dofn_to_bundle, DoFnSignature(transform.fn), window_fn, invoker_kwargs, (self.run_token, token),
            side_specs,
            *side_items, token=token,
        )


def _concatenate(lists):
    return [value for values in lists for value in values]


# Partitions per worker thread after a grouping. Dask places a task where its
# input lies, so with few partitions one worker can get most of them (with two
# per thread, one run of bench/end_to_end.py at 1,000 articles put 33 and 65
# CPU s on the two workers); four per thread kept them even (47-51 s in two
# runs) at the same CPU in all, and eight per thread cost about 10% more.
_PARTITIONS_PER_THREAD = 4


def _cluster_threads() -> int:
    """Worker threads of the Dask client the run uses (0 when there is none)."""
    try:
        from distributed import default_client

        return sum(default_client().nthreads().values())
    except (ImportError, ValueError):
        return 0


class _SpreadingGroupByKey(transform_evaluator.GroupByKey):
    """Beam's Dask GroupByKey, with its output spread over the whole cluster.

    Beam's translation groups with Dask's task shuffle, which keeps the input's
    partition count, and a bounded read enters the graph as one partition
    (`Create` of a few glob patterns): read, parse, clean and dedup then ran as
    one task, and NER on the two partitions that later Flattens happened to
    make, of unequal size. Splitting the input first makes the shuffle hash the
    keys (tokenised, so equal in every worker process) over exactly
    `--dask_npartitions` partitions, or four per worker thread of the cluster
    (Flattens upstream add up partition counts; a grouping resets them).
    """

    partitions = 0  # set per pipeline by DaskRunner.to_dask_bag_visitor (0: keep the input's)

    def apply(self, input_bag, side_inputs=None):
        if self.partitions and self.partitions != input_bag.npartitions:
            input_bag = input_bag.repartition(npartitions=self.partitions)
        return super().apply(input_bag, side_inputs)


_TRANSLATIONS = {
    **TRANSLATIONS,
    apache_beam.ParDo: _TagKeepingParDo,
    **{
        translated: _SpreadingGroupByKey
        for translated, op in TRANSLATIONS.items()
        if op is transform_evaluator.GroupByKey
    },
}


def _main_values(partition) -> list:
    return [item for item in partition if not isinstance(item, TaggedOutput)]


def _tagged_values(partition, tag) -> list:
    return [item.value for item in partition if isinstance(item, TaggedOutput) and item.tag == tag]


def _bag_of(bags: dict, pcollection):
    """The bag holding exactly the elements of `pcollection`."""
    producer = pcollection.producer
    if producer not in bags:
        return None
    bag = bags[producer]
    if len(producer.outputs) <= 1:
        return bag
    if pcollection.tag is None:
        return bag.map_partitions(_main_values)
    return bag.map_partitions(_tagged_values, pcollection.tag)



class DaskRunner(BeamDaskRunner):
    """Beam's DaskRunner with per-output routing of multi-output ParDos."""

    @staticmethod
    def to_dask_bag_visitor(bag_kwargs=None):
        from apache_beam.pipeline import PipelineVisitor

        bag_kwargs = bag_kwargs or {}
        _TagKeepingParDo.run_token = uuid.uuid4().hex
        # Asked of the cluster once per pipeline, not at every grouping.
        _SpreadingGroupByKey.partitions = bag_kwargs.get("npartitions") or _PARTITIONS_PER_THREAD * _cluster_threads()

        @dataclasses.dataclass
        class OutputRoutingVisitor(PipelineVisitor):
            bags: dict = dataclasses.field(default_factory=collections.OrderedDict)
            read: set = dataclasses.field(default_factory=set)  # values some step reads

            def leaves(self) -> list:
                """The bags no step reads: every end of the graph, each one to compute."""
                return [
                    bag for node, bag in self.bags.items()
                    if not any(output in self.read for output in node.outputs.values())
                ]

            def visit_transform(self, transform_node) -> None:
                op_class = _TRANSLATIONS.get(transform_node.transform.__class__, NoOp)
                op = op_class(transform_node, bag_kwargs=bag_kwargs)
                self.read.update(transform_node.inputs)
                self.read.update(side_input.pvalue for side_input in transform_node.side_inputs)

                op_kws = {"input_bag": None, "side_inputs": None}
                inputs = list(transform_node.inputs)
                if inputs:
                    bag_inputs = []
                    for input_value in inputs:
                        if isinstance(input_value, pvalue.PBegin):
                            bag_inputs.append(None)
                            continue
                        bag = _bag_of(self.bags, input_value)
                        if bag is not None:
                            bag_inputs.append(bag)
                    if len(bag_inputs) == 1 and not isinstance(op, Flatten):
                        op_kws["input_bag"] = bag_inputs[0]
                    else:
                        op_kws["input_bag"] = bag_inputs

                side_inputs = list(transform_node.side_inputs)
                if side_inputs and isinstance(op, _TagKeepingParDo):
                    main_input = next(iter(transform_node.main_inputs.values()), None)
                    main_window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
                    op_kws["side_bags"] = [
                        (
                            (type(side_input), side_input._view_options(), main_window_fn),
                            _bag_of(self.bags, side_input.pvalue),
                        )
                        for side_input in side_inputs
                    ]
                elif side_inputs:
                    op_kws["side_inputs"] = [
                        SideInputMap(
                            type(side_input),
                            side_input._view_options(),
                            DaskBagWindowedIterator(
                                _bag_of(self.bags, side_input.pvalue), side_input._window_mapping_fn
                            ),
                        )
                        for side_input in side_inputs
                    ]

                # Partitions as lists: Dask bag partitions may be one-pass iterators
                # (map, filter, groupby results), and a bag read by two consumers
                # would give the second one nothing.
                self.bags[transform_node] = op.apply(**op_kws).map_partitions(list)

        return OutputRoutingVisitor()

    def run_pipeline(self, pipeline, options):
        """Beam's `run_pipeline`, with a cluster that cannot run the pipeline said in one line.

        Differences: an unreachable scheduler (or a missing scheduler file, which Dask
        waits for forever), a scheduler without workers, and a cluster lost during the
        run raise `ClusterError` (Beam's gave a 70-line traceback after 30 s, waited
        forever, or reported the cancelled run as done); every end of the graph is
        computed, not only the last step visited; Create's partitions are Beam's own
        default size, named, so Beam does not warn of its default for every Create.
        """
        import dask
        import dask.distributed as ddist

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options) or {"partition_size": _CREATE_PARTITION_SIZE}
        patience_s = _patience_s(dask_options)
        client = _connect(ddist, dask_options, patience_s)
        try:
            _await_a_worker(client, patience_s)
            pipeline.replace_all(dask_overrides())
            visitor = self.to_dask_bag_visitor(bag_kwargs)
            pipeline.visit(visitor)
            futures = client.compute(dask.optimize(_one_collection(visitor.leaves())))
        except BaseException:
            client.close()
            raise
        return ClusterRunResult(client, futures, patience_s=patience_s)


def _one_collection(leaves: list):
    """The graph's ends as one collection: Dask optimises collections computed together
    each on its own, and the steps they share then ran once for each."""
    if len(leaves) == 1:
        return leaves[0]
    from dask import bag

    return bag.concat([leaf.map_partitions(_no_values) for leaf in leaves])


def _no_values(partition) -> list:
    return []


# Beam's default length of a Create's partitions (it warns, every time, that it used to be 1).
_CREATE_PARTITION_SIZE = 128
# How often a waiting run looks at the cluster.
_POLL_S = 2.0


def _patience_s(dask_options: dict) -> float:
    """How long a run waits for the cluster (its scheduler, scheduler file, a worker):
    --dask_connection_timeout, else Dask's connect timeout (distributed.comm.timeouts.connect, 30 s)."""
    import dask
    from dask.utils import parse_timedelta

    timeout = dask_options.get("timeout")
    if isinstance(timeout, (int, float)):
        return float(timeout)
    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s"))


def _where(dask_options: dict) -> str:
    if dask_options.get("address"):
        return f"the Dask scheduler at {dask_options['address']}"
    if dask_options.get("scheduler_file"):
        return f"the Dask scheduler of {dask_options['scheduler_file']}"
    return "a local Dask cluster"


def _connect(ddist, dask_options: dict, patience_s: float):
    """A client of the cluster the options name, or ClusterError saying why there is none.

    With neither --dask_client_address nor --dask_scheduler_file, Beam's choice: a
    LocalCluster in this process, whose scheduler's INFO lines are kept out of the run's
    output. A scheduler file that does not exist is waited for (a scheduler may be
    writing it) as long as a connection is, not forever as Dask does.
    """
    where = _where(dask_options)
    scheduler_file = dask_options.get("scheduler_file")
    if not dask_options.get("address") and not scheduler_file:
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler_file and not dask_options.get("address"):
        deadline = time.monotonic() + patience_s
        while not os.path.exists(scheduler_file):
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"no Dask scheduler file at {scheduler_file} after {patience_s:g} s "
                    "(dask scheduler --scheduler-file FILE writes it)"
                )
            time.sleep(0.2)
    try:
        return ddist.Client(**dask_options)
    except ValueError as error:  # an address Dask cannot parse (http://...)
        raise ClusterError(f"cannot use {where}: {error}") from None
    except OSError as error:  # Dask's own time-out
        raise ClusterError(
            f"cannot reach {where}: {error} (is `dask scheduler` running there? "
            "--dask_connection_timeout sets how long to try)"
        ) from None


def _workers(client) -> int:
    try:
        return len(client.nthreads())
    except OSError as error:
        raise ClusterError(f"lost the connection to the Dask scheduler at {client.scheduler.address}: {error}") from None


def _await_a_worker(client, patience_s: float) -> None:
    """Return once the cluster has a worker; ClusterError after `patience_s` without one.

    A scheduler with no worker accepts the graph and holds it forever: the run used to
    wait without a word.
    """
    if _workers(client):
        return
    _LOGGER.warning(
        "the Dask scheduler at %s has no workers yet; waiting up to %g s for one "
        "(dask worker %s)", client.scheduler.address, patience_s, client.scheduler.address,
    )
    deadline = time.monotonic() + patience_s
    while not _workers(client):
        if time.monotonic() > deadline:
            raise ClusterError(
                f"the Dask scheduler at {client.scheduler.address} has no workers "
                f"(none joined in {patience_s:g} s; start them with `dask worker {client.scheduler.address}`)"
            )
        time.sleep(min(_POLL_S, patience_s))


@dataclasses.dataclass
class ClusterRunResult(DaskRunnerResult):
    """Beam's Dask result, whose wait fails when the cluster cannot finish the run.

    Beam's `wait_until_finish` takes cancelled tasks for finished ones (a scheduler
    that went away ended the run "done", and newsbeam then found no output), and waits
    forever for a cluster whose workers are gone. This one raises ClusterError in both
    cases, the second after `patience_s` without a worker, and on any failure or
    interrupt cancels the run's tasks and closes the client, so the cluster drops
    the run at once.
    """

    patience_s: float = 30.0

    def wait_until_finish(self, duration=None) -> str:
        from distributed import KilledWorker, wait
        from distributed.client import FutureCancelledError, FuturesCancelledError

        address = self.client.scheduler.address
        deadline = None if duration is None else time.monotonic() + duration / 1000
        workerless_since = None
        try:
            while True:
                try:
                    wait(self.futures, timeout=_POLL_S)
                    break
                except TimeoutError:
                    pass
                if _workers(self.client):
                    workerless_since = None
                elif workerless_since is None:
                    workerless_since = time.monotonic()
                elif time.monotonic() - workerless_since > self.patience_s:
                    raise ClusterError(
                        f"the Dask cluster at {address} has had no workers for {self.patience_s:g} s "
                        "(were they stopped?); the run cannot finish"
                    )
                if deadline is not None and time.monotonic() > deadline:
                    return self._state
            for future in self.futures:
                future.result()  # a failed task raises its error here
        except (FuturesCancelledError, FutureCancelledError) as error:
            self._fail()
            reasons = sorted(
                {group.reason for group in error.error_groups}
                if isinstance(error, FuturesCancelledError) else {error.reason}
            )
            raise ClusterError(
                f"the run's tasks on the Dask scheduler at {address} were cancelled ({', '.join(reasons)}; "
                "was the scheduler stopped, or the connection to it lost?)"
            ) from None
        except KilledWorker as error:
            self._fail()
            raise ClusterError(
                f"Dask workers died running one task ({error}); if they ran out of memory, "
                "a larger --dask_npartitions gives each task fewer articles"
            ) from None
        except BaseException:
            self._fail()
            raise
        self._state = PipelineState.DONE
        return self._state

    def _fail(self) -> None:
        self._state = PipelineState.FAILED
        try:
            self.client.cancel(self.futures)
            self.client.close()
        except Exception:  # the cluster may be gone already; nothing more to release
            pass
