from infercost.cli import main

main()
