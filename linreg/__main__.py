"""`python -m linreg`: the `linreg` command (see linreg.cli); without arguments, the demo."""
import sys

from linreg.cli import main

sys.exit(main())
