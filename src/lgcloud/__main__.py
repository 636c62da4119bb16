from lgcloud.cli import main

main()
