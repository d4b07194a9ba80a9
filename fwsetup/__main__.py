from fwsetup.cli import main

main()
