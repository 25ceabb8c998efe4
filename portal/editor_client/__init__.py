"""portal-editor: the editors' local client. Decrypts only on the editor's machine.

No Django here: it installs on a laptop with the project's core dependencies
(the cleaner and the OpenPGP wrapper) and uses the editor's own GnuPG.
"""
