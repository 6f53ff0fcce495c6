from harness.run.cli import main

main()
