"""The numpy training engine (``solver="numpy"``): closed-form steps for the built-in MLP."""
