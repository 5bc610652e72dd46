"""Optional peer implementations for `benchmarks/compare.py`: the same train steps and attacks as tfgm's benchmarks,
written in other libraries, to time beside tfgm's.

    torch_nets      PyTorch ports of tfgm's nets (discgen CelebA 64×64, DCGAN 32×32, the fortified MNIST CNN) with the
                    same layer shapes and parameter counts; `param_counts` counts them the way compare.py counts Keras'.
    torch_steps     plain PyTorch train steps / PGD on those nets (eager, float32, the CPU).
    cleverhans_pgd  CleverHans' TF2 `projected_gradient_descent` on tfgm's Keras MNIST CNN.

Nothing here is imported by the `tfgm` library, and torch / cleverhans are never its dependencies: each module
imports its library itself, and compare.py imports a module only in the child process that times it,
after checking the library is installed (the row's peer is skipped, with the reason printed, when it is not).
"""
