"""Following public things by e-mail: a published request, a department, a district, a deputy."""
