from fwsetup.main import main

main()
