"""The program: the command line, the demo, and the assembly of core and flows."""
