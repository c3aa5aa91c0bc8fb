from polytail.cli.main import run

run()
