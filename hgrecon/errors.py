"""The one exception type users see for bad input."""


class InputError(ValueError):
    """Bad input: the message names the file (or config key) and the problem."""

    def __init__(self, where, problem):
        self.where = str(where)
        self.problem = problem
        super().__init__(f"{where}: {problem}")
