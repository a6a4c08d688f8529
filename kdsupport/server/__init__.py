"""The web servers: the trainee app and the instructor app, both Voilà, both guarded.

* :mod:`kdsupport.server.guard`: which requests are answered at all (host names, origins,
  cross-site requests, the pages a role may open);
* :mod:`kdsupport.server.kernels`: a kernel manager with a cap on live kernels and a culler for
  idle and never-connected ones;
* :mod:`kdsupport.server.voila`: Voilà wired to both;
* :mod:`kdsupport.server.hub`: either app behind JupyterHub (``make course``): sign-in through
  the hub, a trainee's server for its owner only, the instructor pages as a hub service;
* :mod:`kdsupport.server.identity`: who the trainee is (the hub user under the hub);
* :mod:`kdsupport.app`: the command that starts either app.

For training with synthetic patients; not a medical device.
"""
