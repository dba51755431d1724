from smeb_lti.cli import main

main()
