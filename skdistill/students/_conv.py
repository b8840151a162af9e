"""A small convolutional student for images."""

from torch import nn

__all__ = ["ConvStudent"]


class ConvStudent(nn.Module):
    """Blocks of a 3x3 convolution, ReLU and 2x2 max-pooling, then a linear layer.

    The student of images: ``X`` of shape ``(n_samples, channels, height,
    width)``. Each block halves the height and width (while both are at least
    2); the last feature map is read, flattened, by the linear layer, which
    keeps where on the image a feature was found.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)`` of one image; the distillers pass it.
    n_outputs : int
        The classes' logits, or 1 for a regressor; the distillers pass it.
    channels : tuple of int, default=(8, 16)
        Output channels of each block: ``(8, 16)`` on 8x8 images has 1,898
        parameters for 10 classes, ``(4, 8)`` 666.

    See Also
    --------
    MLPStudent : The student for tables (and flattened images).
    FeatureDistillation : Match its blocks to a torch teacher's layers.

    Examples
    --------
    >>> import torch
    >>> net = ConvStudent((1, 8, 8), n_outputs=10)
    >>> net(torch.zeros(5, 1, 8, 8)).shape, sum(p.numel() for p in net.parameters())
    (torch.Size([5, 10]), 1898)
    """

    def __init__(self, input_shape, n_outputs, channels=(8, 16)):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(
                f"ConvStudent reads images of shape (channels, height, width); the samples "
                f"have the shape {tuple(input_shape)}. Pass X of shape (n_samples, channels, "
                "height, width), or another student_module."
            )
        depth, height, width = input_shape
        layers = []
        for size in channels:
            layers += [nn.Conv2d(depth, size, 3, padding=1), nn.ReLU()]
            if height >= 2 and width >= 2:
                layers.append(nn.MaxPool2d(2))
                height, width = height // 2, width // 2
            depth = size
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(depth * height * width, n_outputs)

    def forward(self, X):
        """Return the logits of a batch of images.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, channels, height, width)
            A batch of images.

        Returns
        -------
        logits : torch.Tensor of shape (n_samples, n_outputs)
            The outputs of the linear head.
        """
        return self.head(self.features(X).flatten(1))
