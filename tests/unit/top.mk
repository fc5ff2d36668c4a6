# Check units of loupe top's table model.
