from harness.tune.cli import main

main()
