from accelsim.cli import entry

entry()
