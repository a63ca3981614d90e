"""Publishing to the Hugging Face Hub: `publish_model` and `publish_dataset` (see `monoir publish --help`)."""


def publish_model(*args, **kwargs):
    from monoir_rs.publish.model import publish_model as impl

    return impl(*args, **kwargs)


def publish_dataset(*args, **kwargs):
    from monoir_rs.publish.dataset import publish_dataset as impl

    return impl(*args, **kwargs)
