from vaxtrust.cli import main

main()
