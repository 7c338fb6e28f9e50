"""Static files storage: hashed, compressed names, ES module imports included."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage that also rewrites `import … from "./x.js"` to hashed names.

    Without it a page's entry module is hashed but the modules it imports are served
    under plain names, so a deploy could mix a new entry module with old imports.
    """

    support_js_module_import_aggregation = True
