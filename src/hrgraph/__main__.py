from hrgraph.cli import main

main()
