// Each test runs a whole cluster (three nodes, nginx) on a small machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
