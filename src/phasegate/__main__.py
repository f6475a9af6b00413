from phasegate.cli import main

main()
